/**
 * Decisions the domain and service layers return as exceptions; the API maps
 * each to one status and the `{"error_message": …}` body (src/api/errors.ts).
 */
export class WarreError extends Error {
  constructor(
    readonly status: number,
    readonly body: string | Record<string, string[]>,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.name = new.target.name;
  }
}

export class BadRequest extends WarreError {
  constructor(message: string | Record<string, string[]>) {
    super(400, message);
  }
}
export class Forbidden extends WarreError {
  constructor(message = 'Not authorised') {
    super(403, message);
  }
}
export class NotFound extends WarreError {
  constructor(message: string) {
    super(404, message);
  }
}
export class Conflict extends WarreError {
  constructor(message: string) {
    super(409, message);
  }
}
export class OverQuota extends WarreError {
  constructor(message: string) {
    super(413, message);
  }
}
export class ValidationFailed extends WarreError {
  constructor(readonly fields: Record<string, string[]>) {
    super(422, fields);
  }
}
/** A refusal of the reservation rules (docs/api.md#reservation-create, docs/api.md#messages): always 400. */
export class InvalidReservation extends BadRequest {
  constructor(readonly reason: string) {
    super(reason);
  }
}
