// A real OpenID Connect provider for loket's tests: the npm package oidc-provider (pinned in
// package.json), configured like the Flemish government's identity platform (ACM/IDM), with a
// one-click login page instead of a real authentication. Test only: in-memory storage, static
// cookie keys, a signing key generated at start.
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG: {"port": int, "accounts": [{"sub", "claims": {...}, "acr"?}],
//          "clients": [{"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris", ...}],
//          "id_token_ttl": seconds (default 600)}
// Prints one line, `listening http://127.0.0.1:PORT` (the issuer), on stdout when ready; writes only
// errors to stderr. tests/oidc.py starts and stops it. An account's `acr` is the login level its
// ID tokens carry, whatever `acr_values` the relying party asked for (a provider may give less); a
// login form field `acr` stands for another method chosen at this login.

import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

// oidc-provider talks on the console: notices on stdout (which must carry nothing but the
// `listening` line) and warnings that are expected here on stderr. Keep those quiet; let the rest
// through to stderr. This has to be in place before the package is imported, hence the dynamic
// import below.
const EXPECTED = [
  // oidc-provider 9 wants Node 22 LTS or later and says so once at import; it works on Node 20.
  'Unsupported runtime',
  // The in-memory adapter is what a test provider wants.
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

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const port = config.port;
const issuer = `http://127.0.0.1:${port}`;
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
  cookies: { keys: ['loket-test-cookie-key-not-a-secret'] },
  jwks: { keys: [{ ...signingKey, kid: 'test-rs256', alg: 'RS256', use: 'sig' }] },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // `form` is oidc-provider's <form id="op.logoutForm"> with its hidden xsrf input; the button
      // goes inside it, so the page works without JavaScript and a plain form parser finds it all.
      logoutSource: async (ctx, form) => {
        const withButton = form.replace('</form>', '<button type="submit" name="logout" value="yes">Sign out</button></form>');
        ctx.body = page('Sign out of the test identity provider', withButton);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out', '<p>You are signed out of the test identity provider.</p>');
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
  return page('Test identity provider', `<p>Choose who logs in.</p>
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
      send(res, 500, page('Error', '<p>The test identity provider failed.</p>'));
    }
  }
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
