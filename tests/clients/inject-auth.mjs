// Preload for the conformance CLI: adds "Authorization: Bearer $MCP_BEARER" to every HTTP request the
// harness makes (global fetch AND undici.request share undici's global dispatcher).
import { Agent, setGlobalDispatcher } from 'undici';   // resolves from this file's node_modules
const token = process.env.MCP_BEARER;
if (token) {
  setGlobalDispatcher(new Agent().compose((dispatch) => (opts, handler) => {
    let h = opts.headers;
    if (Array.isArray(h)) h = [...h, 'authorization', `Bearer ${token}`];      // flat [k, v, k, v] form
    else h = { ...(h ?? {}), authorization: `Bearer ${token}` };
    return dispatch({ ...opts, headers: h }, handler);
  }));
}
