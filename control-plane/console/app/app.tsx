import { useEffect, useState } from 'preact/hooks';
import { setUnauthenticatedHandler } from './api/client.ts';
import { currentOperator, logout } from './api/endpoints.ts';
import type { Operator, SessionGrant } from './api/types.ts';
import { AppHeader } from './views/app-header.tsx';
import { DashboardView } from './views/dashboard-view.tsx';
import { ErrorBanner } from './views/error-banner.tsx';
import { LoginView } from './views/login-view.tsx';
import { SessionView } from './views/session-view.tsx';

type Screen =
  | { view: 'loading' }
  | { view: 'unreachable'; message: string }
  | { view: 'login'; message: string | null }
  | { view: 'dashboard'; operator: Operator }
  | { view: 'session'; operator: Operator; grant: SessionGrant };

/** The console: sign-in, the dashboard and the session view, one at a time. */
export function App() {
  const [screen, setScreen] = useState<Screen>({ view: 'loading' });

  const load = async () => {
    setScreen({ view: 'loading' });
    try {
      const operator = await currentOperator();
      setScreen(operator ? { view: 'dashboard', operator } : { view: 'login', message: null });
    } catch (error) {
      setScreen({ view: 'unreachable', message: error instanceof Error ? error.message : String(error) });
    }
  };

  useEffect(() => {
    setUnauthenticatedHandler(() =>
      setScreen({ view: 'login', message: 'Your sign-in has expired. Please sign in again.' }),
    );
    void load();
    return () => setUnauthenticatedHandler(undefined);
  }, []);

  useEffect(() => {
    // For the end-to-end tests and for CSS: which page is showing.
    if (screen.view === 'login' || screen.view === 'dashboard' || screen.view === 'session') {
      document.body.setAttribute('data-view', screen.view);
    } else {
      document.body.removeAttribute('data-view');
    }
  }, [screen.view]);

  switch (screen.view) {
    case 'loading':
      return <div class="boot" aria-busy="true" />;
    case 'unreachable':
      return (
        <main class="boot">
          <div class="boot__card">
            <ErrorBanner message={screen.message} onRetry={() => void load()} />
          </div>
        </main>
      );
    case 'login':
      return (
        <LoginView
          message={screen.message}
          onSignedIn={(operator) => setScreen({ view: 'dashboard', operator })}
        />
      );
    case 'dashboard':
    case 'session': {
      const { operator } = screen;
      const signOut = async () => {
        try {
          await logout();
        } finally {
          setScreen({ view: 'login', message: null });
        }
      };
      return (
        <div class="shell">
          <AppHeader operator={operator} onSignOut={() => void signOut()} />
          {screen.view === 'dashboard' ? (
            <DashboardView onJoined={(grant) => setScreen({ view: 'session', operator, grant })} />
          ) : (
            <SessionView
              key={screen.grant.session.id}
              grant={screen.grant}
              onLeave={() => setScreen({ view: 'dashboard', operator })}
            />
          )}
        </div>
      );
    }
  }
}
