import { randomUUID } from 'node:crypto';
import type express from 'express';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
  }
}

/** Accepts a sane `X-Request-Id` from a proxy or client, otherwise makes one; echoes it back. */
export function requestId(): express.RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    req.id = given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    next();
  };
}
