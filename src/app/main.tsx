import { render } from 'solid-js/web';
import { App } from './App';
import { registerShellServiceWorker } from '../offline/register';
import './styles.css';

render(() => <App />, document.getElementById('root')!);
registerShellServiceWorker();
