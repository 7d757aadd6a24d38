/**
 * The one place a relay frame meets its handler. The session parses each frame once and checks
 * that it comes after `welcome` (which the session keeps for itself); from there every kind goes
 * to the one handler its route names, told which link received it. Nothing a handler throws
 * escapes into the socket's event handler.
 */
import type { RelayFrame } from '@arena-relay/shared';
import type { Logger } from 'pino';

/** Relay frames after the handshake: every kind but `welcome`. */
export type RoutedFrame = Exclude<RelayFrame, { type: 'welcome' }>;

/**
 * One handler per relay frame kind (the compiler holds the table complete), and `body` for BODY
 * data frames (protocol v2): `payload` is part of the request body of `stream`.
 */
export type FrameRoutes = {
  [K in RoutedFrame['type']]: (link: number, frame: Extract<RoutedFrame, { type: K }>) => void;
} & { body(link: number, stream: number, payload: Buffer): void };

/** What a session hands its frames to. */
export type FrameDispatcher = {
  frame(link: number, frame: RoutedFrame): void;
  body(link: number, stream: number, payload: Buffer): void;
};

export function frameDispatcher(routes: FrameRoutes, logger: Logger): FrameDispatcher {
  const failed = (error: unknown, kind: string) =>
    logger.error({ err: error, event: kind }, 'relay frame handler threw');
  return {
    frame(link, frame) {
      try {
        (routes[frame.type] as (link: number, frame: RoutedFrame) => void)(link, frame);
      } catch (error) {
        failed(error, frame.type);
      }
    },
    body(link, stream, payload) {
      try {
        routes.body(link, stream, payload);
      } catch (error) {
        failed(error, 'body');
      }
    },
  };
}
