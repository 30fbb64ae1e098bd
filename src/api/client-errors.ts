/**
 * Requests Node's HTTP parser refuses before Fastify routes them (headers over 16 KiB, a
 * malformed request line or header, Content-Length with Transfer-Encoding, a request not
 * received within `[api] request_timeout` / `headers_timeout`), answered in the API's one
 * error shape with a request id, then the connection is closed (docs/operations.md).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';

/** What a refused request is told, by status. */
export function clientErrorAnswer(
  err: { code?: string },
  timeouts: { requestMs: number; headersMs: number },
): { status: number; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'Request headers are too large (the limit is 16 KiB)' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        message: `The request was not received in time (headers within ${timeouts.headersMs / 1000} s, the whole request within ${timeouts.requestMs / 1000} s)`,
      };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { status: 400, message: 'Malformed HTTP request: Content-Length together with Transfer-Encoding' };
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return { status: 400, message: 'Malformed HTTP request: invalid header' };
    case 'HPE_INVALID_METHOD':
    case 'HPE_INVALID_URL':
    case 'HPE_INVALID_VERSION':
      return { status: 400, message: 'Malformed HTTP request: invalid request line' };
    default:
      return { status: 400, message: 'Malformed HTTP request' };
  }
}

/** A `clientError` handler for the HTTP server (Fastify's `clientErrorHandler`). */
export function clientErrorHandler(log: FastifyBaseLogger, timeouts: { requestMs: number; headersMs: number }) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    // A reset connection has nobody left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, message } = clientErrorAnswer(err, timeouts);
    const requestId = `req-${randomUUID()}`;
    log.info({ request_id: requestId, status, code: err.code, remote: socket.remoteAddress }, 'request refused before routing');
    // A response already under way on this connection cannot be followed by another one.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify({ error_message: message });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
          'Content-Type: application/json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Openstack-Request-Id: ${requestId}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
      // Closed once written, or after a second at most if the client does not read.
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    socket.destroy(err);
  };
}
