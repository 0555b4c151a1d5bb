// Runs the seed's DPoPClient (dpop-client.ts, transpiled: types erased, nothing else)
// under Node.js 20, against a token endpoint and an API given as JSON:
//   node run_dpop_client.js <dpop_client.js> '{"code": ..., "clientId": ..., ...}'
// The seed's file runs as a script in its own context; this harness, run after it in
// the same context, uses its DPoPClient class exactly as the seed's main() does.
const fs = require("fs");
const vm = require("vm");

const [compiled, argsJson] = process.argv.slice(2);
const context = vm.createContext({
  require, exports: {}, module: { exports: {} }, console,
  crypto: globalThis.crypto, fetch, btoa, atob, TextEncoder, URLSearchParams, setTimeout,
  ARGS: JSON.parse(argsJson),
});
vm.runInContext(fs.readFileSync(compiled, "utf8"), context, { filename: "dpop_client.js" });
const harness = `(async () => {
  const client = new DPoPClient();
  await client.init();
  const tokens = await client.requestToken(
    ARGS.code, ARGS.clientId, ARGS.redirectUri, ARGS.codeVerifier, ARGS.tokenEndpoint);
  const response = await client.makeAuthenticatedRequest('GET', ARGS.apiUrl, tokens.access_token);
  return { tokens, status: response.status, body: await response.json() };
})()`;
vm.runInContext(harness, context).then(
  (result) => { process.stdout.write("RESULT " + JSON.stringify(result) + "\n"); process.exit(0); },
  (error) => { process.stderr.write("FAILED " + String(error) + "\n"); process.exit(1); },
);
