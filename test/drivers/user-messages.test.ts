import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultTemplateDir,
  type MessageUser,
  messageVars,
  PyDateTime,
  type ReservationForMessage,
  renderUserMessage,
  USER_EVENTS,
} from '../../src/notification/user/render.js';
import { createUserMessageSender, LoggingSender, SmtpSender, TaynacSender } from '../../src/notification/user/senders.js';
import { FakeSession } from '../support/fake-session.js';
import { FakeTaynac } from '../support/fake-taynac.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { captureLogger } from './log-capture.js';

const reservation: ReservationForMessage = {
  id: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d',
  user_id: '2691d292ef724de0b165f4e6a127a587',
  project_id: 'c038f464e4094302a2559df2bef45b40',
  lease_id: '1bc7435b-3328-48fc-9f57-11a9301a869c',
  compute_flavor: 'ddc45423-f863-4e4e-8e7a-51d27cfec962',
  status: 'ACTIVE',
  start: new Date('2030-12-01T00:00:00Z'),
  end: new Date('2030-12-03T12:30:00Z'),
  instance_count: 2,
  flavor: { id: 'f-1', name: 'gpu.a100 <large>', vcpu: 16, memory_mb: 65536, start: new Date('2030-01-02T03:04:05Z') },
};
const alice: MessageUser = { id: reservation.user_id, name: 'interop-alice', email: 'alice@example.edu', full_name: 'Alice Example' };

describe('templates', () => {
  it('the packaged templates are found relative to the package', () => {
    const dir = defaultTemplateDir();
    expect(dir).toBe(path.resolve(import.meta.dirname, '..', '..', 'templates'));
    for (const name of ['base', ...USER_EVENTS]) expect(existsSync(path.join(dir, `${name}.tmpl`))).toBe(true);
  });

  it.each(USER_EVENTS)('renders %s with the reservation details, escaped', (event) => {
    const html = renderUserMessage(defaultTemplateDir(), event, messageVars(reservation, alice));
    expect(html).toContain('Alice Example');
    expect(html).toContain(reservation.id);
    expect(html).toContain('gpu.a100 &lt;large&gt;');
    expect(html).not.toContain('<large>');
    expect(html).toContain('2030-12-01 00:00:00 UTC');
    expect(html).toContain('2030-12-03 12:30:00 UTC');
    expect(html).toContain(`reservation:${reservation.compute_flavor}`);
  });

  it('each event has its own wording', () => {
    const bodies = USER_EVENTS.map((e) => renderUserMessage(defaultTemplateDir(), e, messageVars(reservation, alice)));
    expect(new Set(bodies).size).toBe(USER_EVENTS.length);
  });

  it('greets a user without a full name by name, and renders without a user', () => {
    expect(renderUserMessage(defaultTemplateDir(), 'create', messageVars(reservation, { id: 'u', name: 'bob' }))).toContain('Hello bob,');
    expect(renderUserMessage(defaultTemplateDir(), 'create', messageVars(reservation, null))).toContain('Hello there,');
  });

  describe('a customised Jinja-style template directory', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'warre-tmpl-'));
      writeFileSync(
        path.join(dir, 'base.tmpl'),
        '<p>Dear {{ user.full_name }},</p>{% block intro %}{% endblock intro %}<ul><li>{{ reservation.flavor.name|e }}</li>' +
          '<li>{{ reservation.start }} UTC</li></ul>{% block main %}{% endblock main %}',
      );
      writeFileSync(
        path.join(dir, 'start.tmpl'),
        "{% extends 'base.tmpl' %}\n{% block intro %}<p>Started {{ reservation.id }} x{{ reservation.instance_count }}</p>{% endblock intro %}\n" +
          "{% block main %}<p>Ends {{ reservation.end.strftime('%d/%m/%Y %H:%M') }} ({{ reservation.total_hours }} h)" +
          '{% if reservation.status_reason is none %}, ok{% endif %}{% if reservation.lease_id != None %}, lease {{ reservation.lease_id }}{% endif %}' +
          '{% if True %}.{% endif %} {{ reservation.flavor.start.isoformat() }} {{ user.email }}</p>{% endblock main %}',
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('renders with the same variables, filters and Python-style dates', () => {
      const html = renderUserMessage(dir, 'start', messageVars({ ...reservation, status_reason: null }, alice));
      expect(html).toBe(
        '<p>Dear Alice Example,</p>' +
          `<p>Started ${reservation.id} x2</p>` +
          '<ul><li>gpu.a100 &lt;large&gt;</li><li>2030-12-01 00:00:00 UTC</li></ul>' +
          '<p>Ends 03/12/2030 12:30 (61 h), ok, lease 1bc7435b-3328-48fc-9f57-11a9301a869c. 2030-01-02T03:04:05 alice@example.edu</p>',
      );
    });

    it('picks up an edited template without a restart', () => {
      writeFileSync(path.join(dir, 'end.tmpl'), 'v1 {{ reservation.id }}');
      expect(renderUserMessage(dir, 'end', messageVars(reservation, alice))).toBe(`v1 ${reservation.id}`);
      writeFileSync(path.join(dir, 'end.tmpl'), 'v2 {{ reservation.id }}');
      expect(renderUserMessage(dir, 'end', messageVars(reservation, alice))).toBe(`v2 ${reservation.id}`);
    });
  });

  it('PyDateTime prints and formats like Python', () => {
    const d = new PyDateTime(new Date('2030-03-09T15:04:05.250Z'));
    expect(String(d)).toBe('2030-03-09 15:04:05');
    expect(d.isoformat()).toBe('2030-03-09T15:04:05');
    expect(d.strftime('%a %A %b %B %d %j %y %I %p %f %Z%z %% %q')).toBe('Sat Saturday Mar March 09 068 30 03 PM 250000  % %q');
    expect([d.year, d.month, d.day, d.hour, d.minute, d.second]).toEqual([2030, 3, 9, 15, 4, 5]);
  });
});

describe('LoggingSender', () => {
  it('logs subject, recipient and the rendered text (what production would send), and needs no user', async () => {
    const log = captureLogger();
    const n = new LoggingSender({ logger: log.logger });
    expect(n.needsUser).toBe(false);
    await n.send('before_end', reservation, null);
    await n.send('start', reservation, alice);
    const lines = log.find('logging notifier');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      event: 'before_end',
      reservation_id: reservation.id,
      recipient: null,
      subject: 'Nectar Reservation System Notification',
    });
    expect(lines[1]).toMatchObject({ event: 'start', recipient: 'alice@example.edu' });
    expect(lines[0]!['body']).toBe(renderUserMessage(defaultTemplateDir(), 'before_end', messageVars(reservation, null)));
    expect(lines[1]!['body']).toBe(renderUserMessage(defaultTemplateDir(), 'start', messageVars(reservation, alice)));
    expect(lines[1]!['body']).toContain(reservation.id);
    // One line per message: the text is not left to a debug line of its own.
    expect(log.lines).toHaveLength(2);
  });

  it('logs a broken template and returns normally', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'warre-tmpl-'));
    try {
      writeFileSync(path.join(dir, 'create.tmpl'), '{% if %}');
      const log = captureLogger();
      await new LoggingSender({ logger: log.logger, templateDir: dir }).send('create', reservation, alice);
      expect(log.find('Cannot render')).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TaynacSender', () => {
  const taynac = new FakeTaynac();
  beforeAll(async () => {
    await taynac.start();
  });
  afterAll(async () => {
    await taynac.stop();
  });
  afterEach(() => taynac.reset());

  const notifier = (log = captureLogger()): TaynacSender =>
    new TaynacSender({ logger: log.logger, session: new FakeSession({ message: taynac.url }), retryDelayMs: 1 });

  it("sends the rendered template to the user's e-mail", async () => {
    const log = captureLogger();
    await notifier(log).send('create', reservation, alice);
    expect(taynac.messages).toHaveLength(1);
    const m = taynac.messages[0]!;
    expect(m.recipient).toBe('alice@example.edu');
    expect(m.subject).toBe('Nectar Reservation System Notification');
    expect(m.cc).toEqual([]);
    expect(m.body).toBe(renderUserMessage(defaultTemplateDir(), 'create', messageVars(reservation, alice)));
    expect(log.find('Created Taynac message')[0]).toMatchObject({ backend_id: m.backendId, recipient: 'alice@example.edu' });
  });

  it('skips a user without e-mail with a warning', async () => {
    const log = captureLogger();
    await notifier(log).send('start', reservation, { id: 'u1', name: 'bob', email: null, full_name: null });
    await notifier(log).send('start', reservation, null);
    expect(taynac.requests).toHaveLength(0);
    const warnings = log.find('no email');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ level: 40, user_id: 'u1' });
  });

  it('retries a failing Taynac, then succeeds', async () => {
    taynac.failNext(2, 503);
    await notifier().send('end', reservation, alice);
    expect(taynac.requests).toHaveLength(3);
    expect(taynac.messages).toHaveLength(1);
  });

  it('gives up after 3 tries without throwing', async () => {
    taynac.failNext(5, 500);
    const log = captureLogger();
    await expect(notifier(log).send('end', reservation, alice)).resolves.toBeUndefined();
    expect(taynac.requests).toHaveLength(3);
    expect(log.find('will retry')).toHaveLength(2);
    expect(log.find('giving up')[0]).toMatchObject({ level: 50, attempts: 3 });
  });

  it('does not retry a refusal', async () => {
    const log = captureLogger();
    await notifier(log).send('end', reservation, { ...alice, email: 'alice at example' });
    expect(taynac.requests).toHaveLength(1);
    expect(log.find('giving up')).toHaveLength(1);
  });
});

describe('SmtpSender', () => {
  const sink = new SmtpSink({ user: 'mailer', password: 's3cret' });
  let port: number;
  beforeAll(async () => {
    port = await sink.start();
  });
  afterAll(async () => {
    await sink.stop();
  });
  afterEach(() => {
    sink.messages.length = 0;
    sink.offered = 0;
  });

  const notifier = (log = captureLogger()): SmtpSender =>
    new SmtpSender({
      logger: log.logger,
      retryDelayMs: 1,
      smtp: { host: '127.0.0.1', port, user: 'mailer', password: 's3cret', from: 'Nectar Reservations <reservations@example.org>' },
    });

  it('delivers the rendered template to the user', async () => {
    const n = notifier();
    try {
      await n.send('start', reservation, alice);
    } finally {
      await n.close();
    }
    expect(sink.messages).toHaveLength(1);
    const m = sink.messages[0]!;
    expect(m.to).toEqual(['alice@example.edu']);
    expect(m.from).toBe('reservations@example.org');
    expect(m.user).toBe('mailer');
    expect(m.raw).toMatch(/^Subject: Nectar Reservation System Notification\r?$/m);
    expect(m.raw).toMatch(/^To: Alice Example <alice@example\.edu>\r?$/m);
    expect(m.raw).toMatch(/^Content-Type: text\/html/m);
    // quoted-printable may wrap lines: undo soft breaks before looking for content
    const text = m.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    expect(text).toContain(reservation.id);
    expect(text).toContain('gpu.a100 &lt;large&gt;');
  });

  it('retries a temporary refusal', async () => {
    sink.rejectNext(1, 451);
    const n = notifier();
    await n.send('create', reservation, alice);
    await n.close();
    expect(sink.offered).toBe(2);
    expect(sink.messages).toHaveLength(1);
  });

  it('gives up on a permanent refusal at once, without throwing', async () => {
    sink.rejectNext(1, 550);
    const log = captureLogger();
    const n = notifier(log);
    await expect(n.send('create', reservation, alice)).resolves.toBeUndefined();
    await n.close();
    expect(sink.offered).toBe(1);
    expect(sink.messages).toHaveLength(0);
    expect(log.find('giving up')).toHaveLength(1);
  });

  it('gives up after 3 tries when the server keeps failing', async () => {
    sink.rejectNext(3, 451);
    const log = captureLogger();
    const n = notifier(log);
    await n.send('create', reservation, alice);
    await n.close();
    expect(sink.offered).toBe(3);
    expect(sink.messages).toHaveLength(0);
    expect(log.find('giving up')[0]).toMatchObject({ attempts: 3 });
  });

  it('gives up when no server listens, without throwing', async () => {
    const log = captureLogger();
    const n = new SmtpSender({
      logger: log.logger,
      retryDelayMs: 1,
      attempts: 2,
      smtp: { host: '127.0.0.1', port: 1, from: 'x@example.org' },
    });
    await expect(n.send('create', reservation, alice)).resolves.toBeUndefined();
    expect(log.find('giving up')[0]).toMatchObject({ attempts: 2 });
  });
});

describe('createUserMessageSender', () => {
  const logger = captureLogger().logger;
  it('builds each driver and explains missing settings', () => {
    expect(createUserMessageSender('logging', { logger })).toBeInstanceOf(LoggingSender);
    expect(createUserMessageSender('taynac', { logger, session: new FakeSession({}) })).toBeInstanceOf(TaynacSender);
    expect(createUserMessageSender('smtp', { logger, smtp: { host: 'localhost', from: 'a@example.org' } })).toBeInstanceOf(SmtpSender);
    expect(() => createUserMessageSender('taynac', { logger })).toThrow(/needs Keystone credentials/);
    expect(() => createUserMessageSender('smtp', { logger })).toThrow(/needs an SMTP host/);
    expect(() => createUserMessageSender('pigeon' as never, { logger })).toThrow(/Unknown user notifier "pigeon"/);
  });
});
