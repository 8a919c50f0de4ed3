import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestServer } from './server';

/** Subscribes to a run's progress (GraphQL syncProgress) and collects every event until the stream ends. */
export function follow(s: TestServer, runId: number | string): Promise<any[]> {
  const client = createClient({
    url: s.url.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${s.adminKey}` },
  });
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    client.subscribe(
      { query: `subscription { syncProgress(runId: ${runId}) { seq step message done total counters status } }` },
      {
        next: (v) => events.push((v.data as any).syncProgress),
        error: (e) => (client.dispose(), reject(e)),
        complete: () => (client.dispose(), resolve(events)),
      },
    );
  });
}
