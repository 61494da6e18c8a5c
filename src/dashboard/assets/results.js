// Draws the Results page's two charts with uPlot from the JSON the server embedded (no inline script: CSP allows 'self' only).
(function () {
  var el = document.getElementById('series');
  if (!el || typeof uPlot === 'undefined') return;
  var s = JSON.parse(el.textContent);
  function width(id) { return Math.max(280, document.getElementById(id).clientWidth || 600); }
  var placements = {
    title: 'Pairs taken per bucket', width: width('chart-placements'), height: 240,
    series: [{}, { label: 'taken', stroke: '#0b57d0', width: 2 }, { label: 'executed', stroke: '#146c2e', width: 2 }, { label: 'not executed', stroke: '#b00020', width: 2 }],
    axes: [{}, { label: 'pairs' }],
  };
  var latency = {
    title: 'Leg window (ms)', width: width('chart-latency'), height: 240,
    series: [{}, { label: 'median', stroke: '#0b57d0', width: 2 }, { label: 'max', stroke: '#b00020', width: 2, dash: [6, 4] }],
    axes: [{}, { label: 'ms' }],
  };
  new uPlot(placements, [s.t, s.taken, s.executed, s.notExecuted], document.getElementById('chart-placements'));
  new uPlot(latency, [s.t, s.legWindowP50Ms, s.legWindowMaxMs], document.getElementById('chart-latency'));
  document.body.setAttribute('data-charts', 'drawn');
})();
