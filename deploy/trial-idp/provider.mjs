// An OpenID Connect provider with fictitious persons, FOR TESTS AND TRYING OUT loket ONLY, NEVER FOR
// PRODUCTION: the npm package oidc-provider, configured like the Flemish government's identity
// platform (ACM/IDM: its scopes and claims), with a one-click login page instead of a real
// authentication. Everything is in memory; the signing key and cookie keys are made anew at each start.
// Two users, one program:
//   - the login tests: tests/oidc.py writes a CONFIG for each run and starts it under Node with the
//     oidc-provider of the root package.json;
//   - the `idp` service of deploy/compose.yaml: this folder's Dockerfile runs it with config.json
//     (listening on 0.0.0.0, the address and loket's client secret from the environment).
//
//   node deploy/trial-idp/provider.mjs CONFIG.json
//
// CONFIG: {"accounts": [{"sub", "claims": {...}, "acr"?}],
//          "clients": [{"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris", ...}],
//          "port": int (default: the issuer's port),
//          "issuer": its address (default http://127.0.0.1:PORT),
//          "host": where to listen (default 127.0.0.1),
//          "id_token_ttl": seconds (default 600)}
// `port` or `issuer` must be given. Any `${NAME}` in a string of CONFIG stands for the environment
// variable NAME, which must be set: that keeps secrets (a client_secret) out of the file.
// Prints one line, `listening ISSUER`, on stdout when ready; writes only errors to stderr. An account's
// `acr` is the login level its ID tokens carry, whatever `acr_values` the relying party asked for (a
// provider may give less); a login form field `acr` stands for another method chosen at this login.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

// oidc-provider talks on the console: notices on stdout (which must carry nothing but the
// `listening` line) and warnings that are expected here on stderr. Keep those quiet; let the rest
// through to stderr. This has to be in place before the package is imported, hence the dynamic
// import below.
const EXPECTED = [
  // oidc-provider 9 wants Node 22 LTS or later and says so once at import; it works on Node 20.
  'Unsupported runtime',
  // The in-memory adapter is what a provider with fictitious persons wants.
  'quick start development-only in-memory adapter',
];
const quiet = (...args) => {
  const text = args.join(' ');
  if (text.startsWith('oidc-provider NOTICE')) return;
  if (text.startsWith('oidc-provider WARNING') && EXPECTED.some((w) => text.includes(w))) return;
  process.stderr.write(`${text}\n`);
};
console.log = quiet;
console.info = quiet;
console.warn = quiet;

const { default: Provider } = await import('oidc-provider');

function fail(message) {
  process.stderr.write(`provider.mjs: ${message}\n`);
  process.exit(2);
}

// `${NAME}` in a string stands for the environment variable NAME.
function fromEnvironment(value) {
  if (typeof value === 'string') {
    return value.replace(/\$\{(\w+)\}/g, (_, name) => process.env[name] || fail(`set ${name} (${process.argv[2]})`));
  }
  if (Array.isArray(value)) return value.map(fromEnvironment);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fromEnvironment(item)]));
  }
  return value;
}

if (!process.argv[2]) fail('usage: node provider.mjs CONFIG.json');
const config = fromEnvironment(JSON.parse(readFileSync(process.argv[2], 'utf8')));
if (!config.port && !config.issuer) fail('CONFIG needs a port or an issuer');
const issuer = (config.issuer ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
const port = config.port ?? Number(new URL(issuer).port || 80);
const host = config.host ?? '127.0.0.1';
const accounts = new Map(config.accounts.map((account) => [account.sub, account]));
// oidc-provider puts `acr` in ID tokens only when it knows some values.
const acrValues = [...new Set(config.accounts.map((account) => account.acr).filter(Boolean))];

// The scopes of ACM/IDM and the claims each one releases.
const CLAIMS = {
  openid: ['sub'],
  profile: ['given_name', 'family_name', 'name'],
  rrn: ['rrn'],
  vo: ['vo_id', 'vo_doelgroepcode', 'vo_doelgroepnaam', 'vo_orgcode', 'vo_orgnaam'],
  ssm_mandaat: ['ssm_mandaatgever'],
};

const html = (value) => String(value)
  .replaceAll('&', '&amp;')
  .replaceAll('<', '&lt;')
  .replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;')
  .replaceAll("'", '&#39;');

const page = (title, body) => `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${html(title)}</title></head>
<body>
<main>
<h1>${html(title)}</h1>
<p><strong>Fictitious persons, for tests and for trying out loket only. Not for real use.</strong></p>
${body}
</main>
</body>
</html>`;

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: config.clients,
  findAccount: async (ctx, sub) => {
    const account = accounts.get(sub);
    if (!account) return undefined;
    // oidc-provider keeps only the claims of the granted scopes.
    return { accountId: sub, claims: async () => ({ ...account.claims, sub }) };
  },
  scopes: Object.keys(CLAIMS),
  claims: CLAIMS,
  acrValues,
  // ACM/IDM puts the claims of the granted scopes in the ID token itself, not only at userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: { keys: [{ ...signingKey, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }] },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // `form` is oidc-provider's <form id="op.logoutForm"> with its hidden xsrf input; the button
      // goes inside it, so the page works without JavaScript and a plain form parser finds it all.
      logoutSource: async (ctx, form) => {
        const withButton = form.replace('</form>', '<button type="submit" name="logout" value="yes">Sign out</button></form>');
        ctx.body = page('Sign out of the identity provider', withButton);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out', '<p>You are signed out of the identity provider.</p>');
      },
    },
  },
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre>${html(JSON.stringify(out, null, 2))}</pre>`);
  },
  // An ID token carries `exp = iat + IdToken TTL`, and in the code flow it is made by the token
  // endpoint: with id_token_ttl 1, waiting 2 seconds between login and code exchange still yields a
  // fresh token (exp = now + 1). To see an expired one, the wait must come after the token response,
  // before the relying party checks the token. And mind the RP's clock leeway: Authlib's
  // parse_id_token allows 120 seconds by default, so a 1-second-old expiry passes there unless the
  // RP validates with a smaller leeway. The provider itself never refuses anything over this TTL.
  ttl: {
    IdToken: config.id_token_ttl ?? 600,
    AccessToken: 600,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  clientBasedCORS: () => false,
});

// OAuth errors a relying party caused (bad PKCE verifier, unknown redirect_uri, ...) go to stderr as
// one line each, so a failing test can show why; so do the provider's own failures.
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error',
  'jwks.error', 'discovery.error', 'introspection.error', 'revocation.error', 'server_error']) {
  provider.on(event, (ctx, err) => {
    const detail = err.error_description ? `${err.error}: ${err.error_description}` : (err.stack ?? String(err));
    process.stderr.write(`${event} ${ctx.method} ${ctx.path}: ${detail}\n`);
  });
}

async function finishWithGrant(req, res, details, accountId, acr) {
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (!grant || grant.accountId !== accountId) {
    grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  }
  // Everything the client asked for. (The `claims` request parameter is off, oidc-provider's
  // default, so the requested scopes are the whole request.)
  grant.addOIDCScope(details.params.scope ?? 'openid');
  const grantId = await grant.save();
  const result = { consent: { grantId } };
  if (details.prompt.name === 'login') result.login = { accountId, acr: acr || accounts.get(accountId).acr };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

function loginPage(uid) {
  const buttons = [...accounts.values()].map((account) => `<li><button type="submit" name="account" value="${html(account.sub)}">${html(account.claims?.name ?? account.sub)}</button></li>`).join('\n');
  return page('Choose who logs in', `<p>One click logs in, no password.</p>
<form method="post" action="/interaction/${html(uid)}/login">
<ul>
${buttons}
</ul>
</form>
<form method="post" action="/interaction/${html(uid)}/abort">
<button type="submit">Cancel</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Error', '<p>This interaction is not yours.</p>'));
  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'consent') {
      // Already logged in, only consent missing: grant it without asking.
      return finishWithGrant(req, res, details, details.session.accountId);
    }
    return send(res, 200, loginPage(uid));
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const sub = form.get('account');
    if (!accounts.has(sub)) return send(res, 400, page('Error', '<p>Unknown account.</p>'));
    return finishWithGrant(req, res, details, sub, form.get('acr'));
  }
  if (req.method === 'POST' && action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }
  return send(res, 405, page('Error', '<p>Method not allowed.</p>'));
}

const handle = provider.callback();
const INTERACTION = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/;

const server = createServer(async (req, res) => {
  const match = INTERACTION.exec(new URL(req.url, issuer).pathname);
  if (!match) return handle(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (err) {
    // SessionNotFound and the like: an expired or unknown interaction.
    if (err.statusCode && err.statusCode < 500) {
      send(res, err.statusCode, page('Error', `<p>${html(err.error_description ?? err.message)}</p>`));
    } else {
      process.stderr.write(`interaction ${req.method} ${req.url}: ${err.stack ?? err}\n`);
      send(res, 500, page('Error', '<p>The identity provider failed.</p>'));
    }
  }
});

server.listen(port, host, () => {
  process.stdout.write(`listening ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
