/**
 * Sign-in (docs/dashboard.md "Signing in"): with `auth_strategy = noauth` the
 * identity is typed in and sent as X-* headers; with keystone a password or an
 * application credential is exchanged for a token by Warre's /dashboard/api/tokens.
 */
import { useState } from 'preact/hooks';
import { call, type KeystoneSession, type Session, setSession } from '../api.js';
import { ErrorText, Field } from '../components/ui.js';

export function SignIn(props: { strategy: 'noauth' | 'keystone'; notice: string | null; onSignedIn: (s: Session) => void }) {
  return (
    <main id="main" class="page signin">
      <h1>Sign in to Warre</h1>
      {props.notice && (
        <p class="notice" role="status">
          {props.notice}
        </p>
      )}
      {props.strategy === 'noauth' ? <NoauthForm onSignedIn={props.onSignedIn} /> : <KeystoneForms onSignedIn={props.onSignedIn} />}
    </main>
  );
}

function NoauthForm(props: { onSignedIn: (s: Session) => void }) {
  const [user, setUser] = useState('');
  const [project, setProject] = useState('');
  const [roles, setRoles] = useState('member,reader');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        if (!project.trim()) {
          setError('A project is needed: reservations belong to a project.');
          return;
        }
        const s: Session = {
          kind: 'noauth',
          user: user.trim(),
          project: project.trim(),
          roles: roles
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
        };
        props.onSignedIn(s);
      }}
    >
      <p class="warning">
        This Warre runs with <code>auth_strategy = noauth</code>: whoever opens this page can be anyone, with any role. That is meant for a
        laptop or a test machine, never for users.
      </p>
      <Field label="User">
        {(p) => <input {...p} name="user" autoComplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} />}
      </Field>
      <Field label="Project" errors={error ? [error] : undefined}>
        {(p) => <input {...p} name="project" required value={project} onInput={(e) => setProject(e.currentTarget.value)} />}
      </Field>
      <Field label="Roles" hint="Comma-separated, e.g. member,reader or admin">
        {(p) => <input {...p} name="roles" value={roles} onInput={(e) => setRoles(e.currentTarget.value)} />}
      </Field>
      <button type="submit">Sign in</button>
    </form>
  );
}

function KeystoneForms(props: { onSignedIn: (s: Session) => void }) {
  const [mode, setMode] = useState<'password' | 'application_credential'>('password');
  const [form, setForm] = useState({
    username: '',
    password: '',
    domain: 'Default',
    project: '',
    application_credential_id: '',
    secret: '',
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body =
      mode === 'password'
        ? { method: 'password', username: form.username, password: form.password, domain: form.domain || 'Default', project: form.project }
        : { method: 'application_credential', application_credential_id: form.application_credential_id, secret: form.secret };
    try {
      setSession(null);
      const t = await call<Omit<KeystoneSession, 'kind'>>('POST', '/dashboard/api/tokens', { body, noExpiry: true });
      if (!t.project) throw new Error('You have no project to book for: ask your project manager for access.');
      props.onSignedIn({ kind: 'keystone', ...t });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <div class="card">
      <fieldset class="choice">
        <legend>Sign in with</legend>
        <label>
          <input type="radio" name="mode" checked={mode === 'password'} onChange={() => setMode('password')} /> Password
        </label>
        <label>
          <input type="radio" name="mode" checked={mode === 'application_credential'} onChange={() => setMode('application_credential')} />{' '}
          Application credential
        </label>
      </fieldset>
      <form onSubmit={submit} aria-busy={busy ? 'true' : undefined}>
        {mode === 'password' ? (
          <>
            <Field label="User name">
              {(p) => <input {...p} name="username" autoComplete="username" required value={form.username} onInput={set('username')} />}
            </Field>
            <Field label="Password">
              {(p) => (
                <input
                  {...p}
                  type="password"
                  name="password"
                  autoComplete="current-password"
                  required
                  value={form.password}
                  onInput={set('password')}
                />
              )}
            </Field>
            <Field label="Domain">{(p) => <input {...p} name="domain" value={form.domain} onInput={set('domain')} />}</Field>
            <Field label="Project" hint="Optional: your first project when empty">
              {(p) => <input {...p} name="project" value={form.project} onInput={set('project')} />}
            </Field>
          </>
        ) : (
          <>
            <Field label="Application credential ID">
              {(p) => (
                <input
                  {...p}
                  name="application_credential_id"
                  required
                  value={form.application_credential_id}
                  onInput={set('application_credential_id')}
                />
              )}
            </Field>
            <Field label="Secret">
              {(p) => (
                <input {...p} type="password" name="secret" autoComplete="off" required value={form.secret} onInput={set('secret')} />
              )}
            </Field>
          </>
        )}
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
