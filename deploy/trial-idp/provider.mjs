// FOR TRYING OUT loket ONLY, NEVER FOR PRODUCTION. An OpenID Connect provider (the npm package
// oidc-provider) with the scopes and claims of the Flemish government's identity platform (ACM/IDM)
// and a login page that lists fictitious persons (accounts.json): one click logs in, no password.
// Everything is in memory and the signing key is made anew at each start.
//
// Settings (environment):
//   TRIAL_IDP_ISSUER         its address, as the browser and loket both reach it (http://idp.localhost:9090)
//   TRIAL_IDP_CLIENT_ID      loket's client id (LOKET_OIDC_CLIENT_ID)
//   TRIAL_IDP_CLIENT_SECRET  loket's client secret (LOKET_OIDC_CLIENT_SECRET)
//   TRIAL_IDP_RP_URL         loket's public address (LOKET_PUBLIC_URL): it may return to /auth/callback and /
//   TRIAL_IDP_ACCOUNTS       the persons' file (default: accounts.json beside this file)
//   TRIAL_IDP_HOST           where to listen (default 0.0.0.0); the port is the issuer's

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

function setting(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (!value) {
    process.stderr.write(`trial-idp: set ${name}\n`);
    process.exit(2);
  }
  return value;
}

const issuer = setting('TRIAL_IDP_ISSUER').replace(/\/+$/, '');
const rpUrl = setting('TRIAL_IDP_RP_URL').replace(/\/+$/, '');
const accountsFile = setting('TRIAL_IDP_ACCOUNTS', new URL('accounts.json', import.meta.url));
const accounts = new Map(JSON.parse(readFileSync(accountsFile, 'utf8')).map((a) => [a.sub, a]));

// Its notices (on stdout) say what this server knowingly is: a development setup. Keep the log short.
const { default: Provider } = await import('oidc-provider');

const CLAIMS = {
  openid: ['sub'],
  profile: ['given_name', 'family_name', 'name'],
  rrn: ['rrn'],
  vo: ['vo_id', 'vo_doelgroepcode', 'vo_doelgroepnaam', 'vo_orgcode', 'vo_orgnaam'],
  ssm_mandaat: ['ssm_mandaatgever'],
};

const escape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>
<p><strong>A trial identity provider with fictitious persons. Not for real use.</strong></p>
${body}</main></body></html>`;

const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const provider = new Provider(issuer, {
  clients: [{
    client_id: setting('TRIAL_IDP_CLIENT_ID'),
    client_secret: setting('TRIAL_IDP_CLIENT_SECRET'),
    redirect_uris: [`${rpUrl}/auth/callback`],
    post_logout_redirect_uris: [`${rpUrl}/`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  findAccount: async (ctx, sub) => {
    const account = accounts.get(sub);
    return account && { accountId: sub, claims: async () => ({ ...account.claims, sub }) };
  },
  scopes: Object.keys(CLAIMS),
  claims: CLAIMS,
  acrValues: [...new Set([...accounts.values()].map((a) => a.acr).filter(Boolean))],
  conformIdTokenClaims: false, // as ACM/IDM: the granted claims are in the ID token itself
  pkce: { required: () => true },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: { keys: [{ ...key, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }] },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre>${escape(JSON.stringify(out, null, 2))}</pre>`);
  },
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
});
provider.on('server_error', (ctx, err) => process.stderr.write(`server_error ${ctx.path}: ${err.stack}\n`));

async function finish(req, res, details, accountId) {
  let grant = details.grantId && (await provider.Grant.find(details.grantId));
  if (!grant || grant.accountId !== accountId) {
    grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  }
  grant.addOIDCScope(details.params.scope ?? 'openid');
  const result = { consent: { grantId: await grant.save() } };
  if (details.prompt.name === 'login') result.login = { accountId, acr: accounts.get(accountId).acr };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

function html(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return html(res, 400, page('Error', '<p>Not this login.</p>'));
  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'consent') return finish(req, res, details, details.session.accountId);
    const buttons = [...accounts.values()].map((a) => `<li><button type="submit" name="account" value="${escape(a.sub)}">${escape(a.claims.name ?? a.sub)}</button></li>`);
    return html(res, 200, page('Choose who logs in', `<form method="post" action="/interaction/${escape(uid)}/login"><ul>${buttons.join('')}</ul></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Cancel</button></form>`));
  }
  if (req.method === 'POST' && action === 'login') {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const sub = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('account');
    if (!accounts.has(sub)) return html(res, 400, page('Error', '<p>Unknown person.</p>'));
    return finish(req, res, details, sub);
  }
  if (req.method === 'POST' && action === 'abort') {
    const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  return html(res, 405, page('Error', '<p>Method not allowed.</p>'));
}

const callback = provider.callback();
const INTERACTION = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/;
const server = createServer(async (req, res) => {
  const match = INTERACTION.exec(new URL(req.url, issuer).pathname);
  if (!match) return callback(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (err) {
    if (!(err.statusCode < 500)) process.stderr.write(`interaction ${req.url}: ${err.stack ?? err}\n`);
    html(res, err.statusCode < 500 ? err.statusCode : 500, page('Error', `<p>${escape(err.error_description ?? 'Failed.')}</p>`));
  }
});

const port = Number(new URL(issuer).port || 80);
server.listen(port, process.env.TRIAL_IDP_HOST ?? '0.0.0.0', () => {
  process.stdout.write(`trial-idp: ${issuer} (fictitious persons, for trying out only)\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
