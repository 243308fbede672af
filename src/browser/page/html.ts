// The page's HTML (a module, so that the compiled package carries it too).

/** index.html of the browser peer's page. */
export function pageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gossipfl: join a run</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 0 0 1rem; }
  label { display: block; margin: .4rem 0; }
  input[type=text], textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { border-bottom: 1px solid #eee; padding: .2rem .5rem; text-align: right; }
  #status { font-weight: 600; } .error { color: #b00020; } .note { color: #666; font-size: 90%; }
</style>
</head>
<body>
<h1>gossipfl: join a run</h1>
<p class="note">Your data is read in this tab and never leaves it: only model updates are sent to the other peers.</p>
<fieldset><legend>Run</legend>
  <div id="run-info">Loading the run…</div>
  <label>Bootstrap multiaddr (a Node peer listening on WebSockets)
    <input type="text" id="bootstrap" spellcheck="false"></label>
  <label>STUN servers for WebRTC between tabs (optional, space-separated <code>stun:host:port</code>; none: tabs on one network)
    <input type="text" id="ice" spellcheck="false"></label>
  <label id="psk-row" hidden>Pre-shared key file of the run <input type="file" id="psk"></label>
</fieldset>
<fieldset><legend>Your data</legend>
  <label>A CSV (label first), a JSON file ({"x": rows, "y": labels}), or an IDX images file with its labels file
    <input type="file" id="data" multiple accept=".csv,.json,.idx,.idx1-ubyte,.idx3-ubyte,application/octet-stream,text/csv,application/json"></label>
  <label>Feature scale <input type="text" id="scale" size="8" style="width:8rem"></label>
  <label>Compute <select id="backend">
    <option value="auto">auto (WebGPU, then WebGL, then wasm)</option>
    <option value="webgpu">WebGPU</option><option value="webgl">WebGL</option>
    <option value="wasm">wasm</option><option value="cpu">cpu</option></select></label>
</fieldset>
<p><button id="join">Join the run</button> <button id="leave" disabled>Leave</button> <span id="status"></span></p>
<table><thead><tr><th>round</th><th>members</th><th>loss</th><th>local accuracy</th><th>merged accuracy</th><th>bytes sent</th><th>bytes received</th><th>connections</th></tr></thead><tbody id="rounds"></tbody></table>
<pre id="log" class="note"></pre>
<script type="module" src="./app.js"></script>
</body>
</html>
`;
}
