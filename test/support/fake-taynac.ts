/**
 * A fake Taynac (docs/interop.md#taynac): `POST /v1/message/` validated as Taynac's marshmallow
 * schema does (subject, body: strings, required; recipient: e-mail, required; cc: list
 * of e-mails), `422 {"message": {field: [errors]}}`, `400` for unreadable JSON, `403`
 * when `forbidden`, else `200 {"backend_id": "<n>"}`. Its catalog URL is the root.
 */
import { FakeOpenStackService, type FakeResponse, type RecordedRequest } from './fake-openstack-http.js';

export interface SentMessage {
  subject: string;
  body: string;
  recipient: string;
  cc: string[];
  backendId: string;
}

// Close to marshmallow's Email validator: local@domain with a dotted domain (or localhost).
const EMAIL =
  /^[^\s@"]+@(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,})$/;

export class FakeTaynac extends FakeOpenStackService {
  readonly messages: SentMessage[] = [];
  /** Answer 403 (the caller lacks `taynac:message:send`). */
  forbidden = false;
  private nextId = 1895;

  get url(): string {
    return `${this.rootUrl}/`;
  }

  override reset(): void {
    super.reset();
    this.messages.length = 0;
    this.forbidden = false;
  }

  protected errorBody(_status: number, message: string): unknown {
    return { message };
  }

  protected handle(req: RecordedRequest): FakeResponse {
    if (req.path !== '/v1/message/' || req.method !== 'POST')
      return { status: 404, body: { message: 'The requested URL was not found on the server.' } };
    if (this.forbidden) return { status: 403, body: { message: 'Not authorised' } };
    const isJson = String(req.headers['content-type'] ?? '').startsWith('application/json');
    if (!isJson || req.body === undefined) return { status: 400, body: { message: 'No input data provided' } };
    const b = req.body;
    if (!b || typeof b !== 'object' || Array.isArray(b)) return { status: 422, body: { message: { _schema: ['Invalid input type.'] } } };
    const data = b as Record<string, unknown>;
    const errors: Record<string, unknown> = {};
    for (const k of ['subject', 'body']) {
      if (!(k in data)) errors[k] = ['Missing data for required field.'];
      else if (typeof data[k] !== 'string') errors[k] = ['Not a valid string.'];
    }
    if (!('recipient' in data)) errors['recipient'] = ['Missing data for required field.'];
    else if (typeof data['recipient'] !== 'string' || !EMAIL.test(data['recipient'])) errors['recipient'] = ['Not a valid email address.'];
    if (!('cc' in data)) errors['cc'] = ['Missing data for required field.'];
    else if (!Array.isArray(data['cc'])) errors['cc'] = ['Not a valid list.'];
    else {
      const bad: Record<string, string[]> = {};
      data['cc'].forEach((c, i) => {
        if (typeof c !== 'string' || !EMAIL.test(c)) bad[String(i)] = ['Not a valid email address.'];
      });
      if (Object.keys(bad).length) errors['cc'] = bad;
    }
    for (const k of Object.keys(data))
      if (!['subject', 'body', 'recipient', 'cc', 'tags', 'backend_id'].includes(k)) errors[k] = ['Unknown field.'];
    if (Object.keys(errors).length) return { status: 422, body: { message: errors } };
    const backendId = String(this.nextId++);
    this.messages.push({
      subject: data['subject'] as string,
      body: data['body'] as string,
      recipient: data['recipient'] as string,
      cc: data['cc'] as string[],
      backendId,
    });
    return { status: 200, body: { backend_id: backendId } };
  }
}
