import './jitless.ts';
import './styles/index.css';
import { render } from 'preact';
import { App } from './app.tsx';
import { createStats } from './media/stats.ts';

// Zeroed until a session starts, so tests and benchmarks can always read them.
createStats();

const root = document.getElementById('app');
if (root) render(<App />, root);
