// A local OpenID Provider for the team-mode tests: the certified `oidc-provider` package with its
// development login form, three accounts whose `groups` claim maps to roles in the app's config,
// listening on 127.0.0.1 only. Usage: node server.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI[,URI...]
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirects] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || !redirects) {
  console.error('usage: node server.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI[,REDIRECT_URI...]');
  process.exit(2);
}

// login name -> claims; the groups claim is what the app maps to roles
const ACCOUNTS = {
  // ann is in both groups: four-eyes, not a missing role, must stop her approving her own submission
  ann: { name: 'Ann Assessor', email: 'ann@example.test', groups: ['risk-assessors', 'risk-committee'] },
  bob: { name: 'Bob Approver', email: 'bob@example.test', groups: ['risk-committee'] },
  vic: { name: 'Vic Viewer', email: 'vic@example.test', groups: ['staff'] },
  amy: { name: 'Amy Assessor', email: 'amy@example.test', groups: ['risk-assessors'] },
  ada: { name: 'Ada Admin', email: 'ada@example.test', groups: ['risk-admins'] },
};

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirects.split(','),
    post_logout_redirect_uris: redirects.split(',').map((u) => new URL(u).origin + '/'),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // the identity token itself carries the claims (Streamlit reads st.user from it)
  conformIdTokenClaims: false,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, email_verified: true, ...account };
      },
    };
  },
  // first-party client: consent is implied, the user only sees the sign-in form
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email groups');
    grant.addOIDCClaims(['name', 'preferred_username', 'email', 'email_verified', 'groups']);
    await grant.save();
    return grant;
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, IdToken: 3600, AccessToken: 3600, AuthorizationCode: 600 },
});
provider.proxy = false;

const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
