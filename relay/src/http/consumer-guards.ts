/**
 * The checks every consumer request (`/v1/*`) passes before its route runs, on either path (the
 * node fast path or Hono): the auth brake (admin requests pass it too), then the draining
 * refusal. Each throws the RelayError the answer reports.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { RelayError } from '../errors/relay-error.js';
import type { AuthGuard } from '../security/auth-guard.js';
import { clientAddress } from './client-address.js';
import type { AppEnv } from './context.js';

export type GuardDeps = {
  config: { trustProxy: boolean };
  authGuard: AuthGuard;
  lifecycle: { draining: boolean };
};

/** Addresses that keep failing authentication wait before they may try again: 429 until then. */
export function checkAuthBrake(deps: GuardDeps, req: IncomingMessage): void {
  const wait = deps.authGuard.retryAfter(clientAddress(req, deps.config.trustProxy));
  if (wait > 0) {
    throw new RelayError('too_many_auth_failures', 'too many failed authentication attempts; slow down', {
      retryAfter: wait,
    });
  }
}

/** A draining relay refuses new consumer requests (503, retry elsewhere) and closes the connection. */
export function refuseIfDraining(deps: GuardDeps, res: ServerResponse): void {
  if (!deps.lifecycle.draining) return;
  res.setHeader('connection', 'close');
  throw new RelayError('no_agents_available', 'relay is shutting down; retry on another relay', {
    retryAfter: 1,
    shouldRetry: true,
  });
}

/** `checkAuthBrake` as a Hono middleware (`/v1/*` and `/api/*`). */
export function authBrake(deps: GuardDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    checkAuthBrake(deps, c.env.incoming);
    await next();
  };
}

/** `refuseIfDraining` as a Hono middleware (`/v1/*`). */
export function drainingRefusal(deps: GuardDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    refuseIfDraining(deps, c.env.outgoing);
    await next();
  };
}
