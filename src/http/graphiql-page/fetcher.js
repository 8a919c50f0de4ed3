// GraphiQL fetcher for the companion's own endpoint (browser code, bundled by
// scripts/build-graphiql.mjs; plain JS so tsc leaves it alone).
//
// Queries and mutations go over HTTP POST with the headers the user typed in
// GraphiQL's Headers tab. Subscriptions go over graphql-ws on the same URL; a
// WebSocket cannot carry custom headers, so the Authorization header travels
// in the connection params instead (the server reads it from there).
import { getOperationAST, parse } from 'graphql';
import { createClient } from 'graphql-ws';

/** HTTP and WebSocket URLs of the endpoint this page was served from. */
export function endpointUrls(location) {
  const path = location.pathname;
  const wsScheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    httpUrl: `${location.origin}${path}`,
    wsUrl: `${wsScheme}//${location.host}${path}`,
  };
}

/** Header lookup that ignores case, as HTTP does. */
export function findHeader(headers, name) {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return undefined;
}

function isSubscription(params) {
  try {
    const op = getOperationAST(parse(params.query), params.operationName || undefined);
    return op?.operation === 'subscription';
  } catch {
    // Unparseable documents go to the server, which reports the syntax error.
    return false;
  }
}

async function postQuery(url, params, headers) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...headers,
    },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    // A proxy or an auth layer may answer with plain text or HTML; show it as a
    // GraphQL error instead of an opaque JSON parse failure.
    return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
  }
}

// graphql-ws rejects with the raw CloseEvent, which GraphiQL would print as
// "[object CloseEvent]"; turn it into a readable Error.
async function* readableErrors(iterator) {
  try {
    yield* iterator;
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && 'reason' in err) {
      throw new Error(`WebSocket closed: ${err.code} ${err.reason || ''}`.trim());
    }
    throw err;
  }
}

export function createCompanionFetcher({ httpUrl, wsUrl }) {
  // One socket per Authorization value: the server authenticates a socket once,
  // when it connects, so a changed key needs a new connection.
  let ws = null;
  function wsClientFor(authorization) {
    if (ws && ws.authorization === authorization) return ws.client;
    ws?.client.dispose();
    const client = createClient({
      url: wsUrl,
      lazy: true,
      // An IDE should report a refused or dropped socket at once, not retry silently.
      retryAttempts: 0,
      connectionParams: authorization ? { Authorization: authorization } : {},
    });
    ws = { authorization, client };
    return client;
  }

  return (params, opts) => {
    const headers = opts?.headers ?? {};
    if (isSubscription(params)) {
      const client = wsClientFor(findHeader(headers, 'authorization'));
      return readableErrors(client.iterate(params));
    }
    return postQuery(httpUrl, params, headers);
  };
}
