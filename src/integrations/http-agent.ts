/**
 * Keep-alive agents for the integration clients (Logikal, iiko, …), with a per-request hook.
 */
import type * as http from 'node:http';

/**
 * node-fetch 2 never ends (nor fails) a body whose socket closes before the announced
 * Content-Length arrived — it only detects that for chunked bodies — so a truncated answer
 * would hang until the timeout. The agents are therefore made hookable: the `agent` callback of
 * one fetch arms a hook that the agent runs on that request's ClientRequest (Node calls
 * `agent.addRequest` synchronously inside http.request, which node-fetch calls synchronously
 * inside fetch()), and the hook watches the response for `close` before `complete`.
 */
export type RequestHook = (req: http.ClientRequest) => void;
export interface HookableAgent {
  armHook(hook: RequestHook | undefined): void;
}

export function hookable<A extends http.Agent>(agent: A): A & HookableAgent {
  let armed: RequestHook | undefined;
  const target = agent as unknown as { addRequest: (req: http.ClientRequest, opts: unknown) => unknown };
  const addRequest = target.addRequest.bind(agent);
  target.addRequest = (req, opts) => {
    const hook = armed;
    armed = undefined;
    hook?.(req);
    return addRequest(req, opts);
  };
  const arm: HookableAgent = {
    armHook: (hook) => {
      armed = hook;
    },
  };
  return Object.assign(agent, arm);
}
