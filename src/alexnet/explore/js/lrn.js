// §3.3's LRN in the page: b = a / (k + α Σ a²)^β, recomputed as the sliders move
// (the same formula as alexnet.models.local_response_norm, which drew the first state).
AX.explorers.lrn = function (root, d) {
  var fig = d.figure, win = d.window ? AX.uint16(d.window) : null, side = 55, C = 9, mid = 4;
  var presets = Object.keys(d.presets);
  var s = AX.controls(root, [
    {name: "k", label: "k", type: "range", min: 0, max: 4, step: 0.1, value: d.start.k, show: AX.fmt},
    {name: "n", label: "n", type: "range", min: 1, max: C, step: 1, value: d.start.n, show: AX.fmt},
    {name: "log_alpha", label: "α", type: "range", min: -6, max: -1, step: 0.05, value: d.start.log_alpha,
     show: function (v) { return "= " + AX.fmt(Math.pow(10, v)); }},
    {name: "beta", label: "β", type: "range", min: 0.25, max: 1.5, step: 0.05, value: d.start.beta, show: AX.fmt}
  ].concat(win ? [   // the activities' scale matters only for the map
    {name: "log_scale", label: "activity scale", type: "range", min: 0, max: 2.5, step: 0.05, value: d.start.log_scale,
     show: function (v) { return "× " + AX.fmt(Math.pow(10, v)); }}] : []).concat(presets.map(function (p) { return {name: "preset", label: p, type: "button", value: p}; })), update);

  function b(a, k, n, alpha, beta, crowd) { return a / Math.pow(k + alpha * (crowd ? n : 1) * a * a, beta); }
  function update(name, value) {
    if (name === "preset") {
      var p = d.presets[value];
      s.set("k", p.k); s.set("n", p.size); s.set("log_alpha", Math.log10(p.alpha)); s.set("beta", p.beta);
      return;
    }
    var k = s.k, n = s.n, alpha = Math.pow(10, s.log_alpha), beta = s.beta;
    fig.data[0].y = d.a.map(function (a) { return b(a, k, n, alpha, beta, false); });
    fig.data[1].y = d.a.map(function (a) { return b(a, k, n, alpha, beta, true); });
    fig.data[1].name = "yours, " + (n - 1) + " neighbours as active";
    if (!win) root.querySelector(".ax-note").textContent = d.caption;
    if (win) { var m = maps(k, n, alpha, beta, Math.pow(10, s.log_scale)); fig.data[4].z = m[0]; fig.data[5].z = m[1]; }
    AX.draw(root, fig);
  }
  // the map's channel and LRN over the window of n channels around it (lo = n/2 below, (n-1)/2 above)
  function maps(k, n, alpha, beta, scale) {
    var lo = Math.floor(n / 2), hi = Math.floor((n - 1) / 2), A = [], B = [], top = 0;
    for (var y = 0; y < side; y++) {
      var ra = [], rb = [];
      for (var x = 0; x < side; x++) {
        var sum = 0, p = y * side + x;
        for (var j = mid - lo; j <= mid + hi; j++) { var v = win[j * side * side + p] * scale; sum += v * v; }
        var a = win[mid * side * side + p] * scale;
        ra.push(a); rb.push(a / Math.pow(k + alpha * sum, beta));
        top = Math.max(top, alpha * sum);
      }
      A.push(ra); B.push(rb);
    }
    root.querySelector(".ax-note").textContent = d.caption + " Largest α·Σa² on this map: " + AX.fmt(top) +
      " (k = " + AX.fmt(k) + "): " + (top < 0.1 * k ? "LRN only rescales by k^−β here." : "neighbours compete here.");
    return [A, B];
  }
  update();
};
