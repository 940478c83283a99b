// Shown when the worker has no WebGPU: what to do about it, and what still works.
import type { JSX } from 'solid-js';

export function NoWebGPU(props: { reason?: string }): JSX.Element {
  return (
    <div role="alert" class="card alert" data-testid="no-webgpu">
      <h2>WebGPU is not available</h2>
      <p>Reason: {props.reason ?? 'unknown'}</p>
      <ul>
        <li>Use Chrome or Edge 113 or newer (desktop), or another browser with WebGPU enabled in dedicated workers.</li>
        <li>Turn on hardware acceleration (Chrome: Settings → System → “Use graphics acceleration when available”) and restart the browser.</li>
        <li>
          Check <code>chrome://gpu</code>: “WebGPU: Hardware accelerated” should be listed. Update your GPU driver if it is blocklisted.
        </li>
        <li>
          On Linux, Chrome may need <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>.
        </li>
        <li>Open the page over https or on localhost: WebGPU needs a secure context.</li>
      </ul>
      <p>Without WebGPU you can still use the Attack Lab, Evaluate and Demo with the scripted policies (comply, refuse, oracle).</p>
    </div>
  );
}
