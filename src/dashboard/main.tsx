/** The portal's entry point (docs/dashboard.md). */
import { render } from 'preact';
import { App } from './app.js';
import './style.css';

render(<App />, document.getElementById('app')!);
