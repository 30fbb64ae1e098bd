/**
 * The portal shell: sign-in, the navigation (Availability, Find a slot, My
 * reservations; Flavors and Maintenance for those policy lets manage them),
 * the identity with project switch and sign-out, and the pages.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, get, type KeystoneSession, type Session, session, setSession, type WhoAmI, whenExpired } from './api.js';
import { errorOf } from './components/ui.js';
import { AvailabilityPage } from './pages/availability.js';
import { FindPage } from './pages/find.js';
import { FlavorsPage } from './pages/flavors.js';
import { MaintenancePage } from './pages/maintenance.js';
import { ReservationsPage } from './pages/reservations.js';
import { SignIn } from './pages/signin.js';
import { BASE, navigate, onLinkClick, type Route, routeOf, useLocation } from './router.js';
import { ZONE, zoneAbbreviation } from './time.js';

const TITLES: Record<Route, string> = {
  availability: 'Availability',
  find: 'Find a slot',
  reservations: 'My reservations',
  flavors: 'Flavors',
  maintenance: 'Maintenance',
  notfound: 'Page not found',
};

type Boot = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; strategy: 'noauth' | 'keystone' };

export function App() {
  // Signed in already (a reload): the session says which strategy; the page needs no round trip first.
  const [boot, setBoot] = useState<Boot>(() => {
    const s = session();
    return s ? { state: 'ready', strategy: s.kind } : { state: 'loading' };
  });
  const [sess, setSess] = useState<Session | null>(session());
  const [who, setWho] = useState<WhoAmI | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const loc = useLocation();

  useEffect(() => {
    get<{ auth_strategy: 'noauth' | 'keystone' }>('/dashboard/api/config')
      .then((c) => setBoot({ state: 'ready', strategy: c.auth_strategy }))
      .catch((e) => setBoot((b) => (b.state === 'ready' ? b : { state: 'error', message: errorOf(e) })));
    whenExpired((message) => {
      setSession(null);
      setSess(null);
      setWho(null);
      setNotice(message);
    });
  }, []);

  // Who the signed-in identity is, and what policy lets it do.
  useEffect(() => {
    if (!sess) return;
    let live = true;
    get<WhoAmI>('/dashboard/api/session')
      .then((w) => live && setWho(w))
      .catch((e) => live && setNotice(errorOf(e)));
    return () => {
      live = false;
    };
  }, [sess]);

  // A Keystone token that expires while the page is open sends the user back to sign-in.
  useEffect(() => {
    if (sess?.kind !== 'keystone') return;
    const left = Date.parse(sess.expires_at) - Date.now();
    const timer = setTimeout(
      () => {
        setSession(null);
        setSess(null);
        setWho(null);
        setNotice('Your session has expired. Sign in again.');
      },
      Math.max(0, Math.min(left, 2 ** 31 - 1)),
    );
    return () => clearTimeout(timer);
  }, [sess]);

  const { route, params } = routeOf(loc.pathname);
  useEffect(() => {
    document.title = sess ? `${TITLES[route]} · Warre` : 'Sign in · Warre';
  }, [route, sess]);

  if (boot.state === 'loading')
    return (
      <p class="boot" role="status">
        Loading the Warre portal…
      </p>
    );
  if (boot.state === 'error') {
    return (
      <main class="page">
        <h1>Warre</h1>
        <p class="error" role="alert">
          The portal could not reach Warre: {boot.message}
        </p>
      </main>
    );
  }
  if (!sess) {
    return (
      <SignIn
        strategy={boot.strategy}
        notice={notice}
        onSignedIn={(s) => {
          setSession(s);
          setNotice(null);
          setWho(null);
          setSess(s);
        }}
      />
    );
  }

  const signOut = async () => {
    if (sess.kind === 'keystone') await call('DELETE', '/dashboard/api/tokens', { noExpiry: true }).catch(() => undefined);
    setSession(null);
    setSess(null);
    setWho(null);
    setNotice('You are signed out.');
    navigate(BASE, true);
  };

  const admin = who?.can;
  const links: { route: Route; href: string; label: string }[] = [
    { route: 'availability', href: BASE, label: 'Availability' },
    { route: 'find', href: `${BASE}find`, label: 'Find a slot' },
    { route: 'reservations', href: `${BASE}reservations`, label: 'My reservations' },
  ];
  if (admin?.manage_flavors) links.push({ route: 'flavors', href: `${BASE}flavors`, label: 'Flavors' });
  if (admin?.manage_maintenance) links.push({ route: 'maintenance', href: `${BASE}maintenance`, label: 'Maintenance' });

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={BASE} onClick={onLinkClick}>
          Warre
        </a>
        <nav aria-label="Main">
          <ul>
            {links.map((l) => (
              <li key={l.route}>
                <a href={l.href} onClick={onLinkClick} aria-current={route === l.route ? 'page' : undefined}>
                  {l.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <Identity
          sess={sess}
          who={who}
          onSwitched={(s) => {
            setSession(s);
            setSess(s);
          }}
          onSignOut={signOut}
        />
      </header>
      <main id="main" class="page" tabIndex={-1}>
        <Page
          key={`${route}|${sess.kind === 'keystone' ? sess.project?.id : sess.project}`}
          route={route}
          params={params}
          who={who}
          title={TITLES[route]}
        />
      </main>
      <footer class="foot">
        Times are shown in your browser's time zone, {ZONE} ({zoneAbbreviation()}); hover a time for UTC.
      </footer>
    </>
  );
}

function Page(props: { route: Route; params: URLSearchParams; who: WhoAmI | null; title: string }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // A new page puts the focus on its heading, so a screen reader announces where the user is.
    h1.current?.focus();
  }, []);
  const heading = (
    <h1 ref={h1} tabIndex={-1}>
      {props.title}
    </h1>
  );
  switch (props.route) {
    case 'availability':
      return <AvailabilityPage heading={heading} who={props.who} />;
    case 'find':
      return <FindPage heading={heading} />;
    case 'reservations':
      return <ReservationsPage heading={heading} who={props.who} highlight={props.params.get('id')} />;
    case 'flavors':
      return <FlavorsPage heading={heading} who={props.who} />;
    case 'maintenance':
      return <MaintenancePage heading={heading} />;
    default:
      return (
        <>
          {heading}
          <p>
            There is no such page. Go to the{' '}
            <a href={BASE} onClick={onLinkClick}>
              availability timeline
            </a>
            .
          </p>
        </>
      );
  }
}

function Identity(props: { sess: Session; who: WhoAmI | null; onSwitched: (s: KeystoneSession) => void; onSignOut: () => void }) {
  const { sess } = props;
  const [switching, setSwitching] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const user = sess.kind === 'keystone' ? sess.user.name : sess.user || sess.project;
  const project = sess.kind === 'keystone' ? (sess.project?.name ?? 'no project') : sess.project;
  const canSwitch = sess.kind === 'keystone' && !sess.application_credential && sess.projects.length > 1;

  const switchTo = async (projectId: string) => {
    if (sess.kind !== 'keystone' || projectId === sess.project?.id) return;
    setSwitching(true);
    setError(null);
    try {
      const next = await call<Omit<KeystoneSession, 'kind'>>('POST', '/dashboard/api/tokens', {
        body: { method: 'token', project_id: projectId },
      });
      props.onSwitched({ kind: 'keystone', ...next });
    } catch (e) {
      setError(errorOf(e));
    } finally {
      setSwitching(false);
    }
  };

  return (
    <div class="identity">
      <span class="who">
        <span class="sr-only">Signed in as </span>
        {user}
        {props.who?.roles.length ? <span class="roles"> ({props.who.roles.join(', ')})</span> : null}
      </span>
      {canSwitch && sess.kind === 'keystone' ? (
        <label class="project-switch">
          <span>Project</span>
          <select
            value={sess.project?.id ?? ''}
            disabled={switching}
            onChange={(e) => void switchTo((e.currentTarget as HTMLSelectElement).value)}
          >
            {sess.projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <span class="project">
          <span class="label">Project </span>
          {project}
        </span>
      )}
      {switching && <span role="status">Switching project…</span>}
      <button type="button" class="secondary" onClick={props.onSignOut}>
        Sign out
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
