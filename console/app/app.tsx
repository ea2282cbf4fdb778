import { useEffect, useState } from 'preact/hooks';
import { whoAmI } from './api/auth.ts';
import { setUnauthenticatedHandler } from './api/client.ts';
import type { Identity } from './api/types.ts';
import { ConsoleShell } from './views/console-shell.tsx';
import { ErrorBanner } from './views/error-banner.tsx';
import { useBodyView } from './views/hooks.ts';
import { LoginView } from './views/login-view.tsx';

type Screen =
  | { view: 'loading' }
  | { view: 'unreachable'; message: string }
  | { view: 'login'; message: string | null }
  | { view: 'console'; identity: Identity };

/** The console: sign-in until there is an operator, then the signed-in console. */
export function App() {
  const [screen, setScreen] = useState<Screen>({ view: 'loading' });

  const load = async () => {
    setScreen({ view: 'loading' });
    try {
      const identity = await whoAmI();
      setScreen(identity ? { view: 'console', identity } : { view: 'login', message: null });
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

  // The signed-in console names its own pages.
  useBodyView(screen.view === 'login' ? 'login' : screen.view === 'console' ? undefined : null);

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
          onSignedIn={(identity) => setScreen({ view: 'console', identity })}
        />
      );
    case 'console':
      return (
        <ConsoleShell
          identity={screen.identity}
          onIdentity={(identity) => setScreen({ view: 'console', identity })}
          onSignedOut={() => setScreen({ view: 'login', message: null })}
        />
      );
  }
}
