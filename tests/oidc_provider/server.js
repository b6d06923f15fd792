// A real OpenID provider for the portal's sign-in tests (and for trying OIDC sign-in by hand): oidc-provider, an
// OpenID Certified implementation, with made-up accounts (accounts.json) and a one-form login page instead of eID.
//
//   PORT=5002 CLIENTS='[{"client_id":"portal","client_secret":"...","redirect_uris":["http://localhost:5000/lv/sign-in/callback"]}]' \
//     node tests/oidc_provider/server.js
//
// Environment: PORT (required); ISSUER (default http://127.0.0.1:PORT); CLIENTS, a JSON list of clients (client_id,
// client_secret, redirect_uris); JWKS_FILE, the signing keys: read when the file exists, otherwise made and written
// there (two providers sharing one file sign with the same key under different issuers). Never deployed.
//
// Login: /interaction/<uid> shows the accounts; POST .../login with `account` signs in as that account with the
// account's acr (no password); POST .../abort answers the client with error=access_denied. Consent is implied:
// loadExistingGrant grants the requested scopes, as a state provider does for the portal.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const here = new URL('.', import.meta.url);
const { accounts } = JSON.parse(readFileSync(new URL('accounts.json', here), 'utf8'));
const port = Number(process.env.PORT);
if (!port) throw new Error('PORT is required');
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS || '[]').map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
  ...client,
}));

function signingKeys() {
  const file = process.env.JWKS_FILE;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' }] };
  if (file) writeFileSync(file, JSON.stringify(jwks), { mode: 0o600 });
  return jwks;
}

const SCOPES = 'openid profile lv_identity';
const LEVELS = ['http://eidas.europa.eu/LoA/substantial', 'http://eidas.europa.eu/LoA/high'];

const provider = new Provider(issuer, {
  clients,
  jwks: signingKeys(),
  cookies: { keys: [randomUUID()] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  acrValues: LEVELS,
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    lv_identity: ['personal_code', 'company_registration_number', 'company_name', 'institution', 'roles'],
  },
  // The portal reads who signed in from the signed id_token alone (no userinfo call): put the scopes' claims there.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const found = await ctx.oidc.provider.Grant.find(grantId);
      if (found) return found;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(SCOPES);
    await grant.save();
    return grant;
  },
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, hint, error) {
  const choices = Object.entries(accounts)
    .map(([id, account]) => {
      const checked = id === hint ? ' checked' : '';
      return `<p><input type="radio" name="account" id="a-${escape(id)}" value="${escape(id)}"${checked}> `
        + `<label for="a-${escape(id)}">${escape(account.label)}</label></p>`;
    })
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><main><h1>Test identity provider</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">${choices}<button>Sign in</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button>Cancel</button></form></main></body></html>`;
}

async function formBody(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10000) throw new Error('body too large');
  }
  return new URLSearchParams(body);
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/);
  if (!match) return next();
  const [, uid, action] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  ctx.set('Cache-Control', 'no-store');
  if (!action && ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = loginPage(uid, details.params.login_hint);
    return undefined;
  }
  if (ctx.method !== 'POST') ctx.throw(405);
  let result;
  if (action === '/abort') {
    result = { error: 'access_denied', error_description: 'The person cancelled signing in.' };
  } else {
    const form = await formBody(ctx.req);
    const id = form.get('account');
    const account = Object.hasOwn(accounts, id || '') ? accounts[id] : undefined;
    if (!account) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = loginPage(uid, undefined, 'Choose an account.');
      return undefined;
    }
    // `acr` (optional, not on the page): the person used another means this time, e.g. the eID card.
    const acr = LEVELS.includes(form.get('acr')) ? form.get('acr') : account.acr;
    result = { login: { accountId: id, acr, amr: ['pwd'] } };
  }
  const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(redirectTo);
  return undefined;
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider ${issuer} listening on 127.0.0.1:${port}\n`);
});
