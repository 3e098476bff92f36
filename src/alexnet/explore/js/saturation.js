// §3.1 in the page: tanh'(x) = 1 - tanh(x)², ReLU'(x) = [x > 0]; the expectation over
// x = σ t on the package's grid t with weights φ(t), as alexnet.explore.saturation computes it.
AX.explorers.saturation = function (root, d) {
  var fig = d.figure, X = fig.data[1].x;
  var s = AX.controls(root, [
    {name: "activation", label: "unit", type: "select", value: d.start.activation,
     options: [["tanh", "tanh"], ["relu", "ReLU"]]},
    {name: "log_sigma", label: "scale σ of the pre-activations", type: "range", min: -1, max: 1, step: 0.02,
     value: d.start.log_sigma, show: function (v) { return "= " + AX.fmt(Math.pow(10, v)); }}
  ], update);
  var f = {tanh: Math.tanh, relu: function (x) { return Math.max(x, 0); }};
  var df = {tanh: function (x) { var t = Math.tanh(x); return 1 - t * t; }, relu: function (x) { return x > 0 ? 1 : 0; }};
  function stats(act, sigma) {
    var wsum = 0, m = 0, stuck = 0, nb = d.bins.length - 1, share = new Array(nb).fill(0);
    d.t.forEach(function (t) {
      var w = Math.exp(-t * t / 2), x = sigma * t, g = df[act](x), i = 0;
      while (i < nb - 1 && g >= d.bins[i + 1]) i++;
      wsum += w; m += w * g; share[i] += w;
      stuck += w * (act === "tanh" ? (Math.abs(x) > d.threshold ? 1 : 0) : (x <= 0 ? 1 : 0));
    });
    return {mean_slope: m / wsum, stuck: stuck / wsum, share: share.map(function (v) { return 100 * v / wsum; })};
  }
  function update() {
    var act = s.activation, sigma = Math.pow(10, s.log_sigma), st = {};
    ["tanh", "relu"].forEach(function (a) { st[a] = stats(a, sigma); });
    fig.data[0].y = X.map(function (x) { return Math.exp(-Math.pow(x / sigma, 2) / 2); });
    fig.data[1].y = X.map(f[act]); fig.data[1].name = act + "(x)";
    fig.data[2].y = X.map(df[act]); fig.data[2].name = act + "'(x): gradient passed";
    [["tanh", 3], ["relu", 4]].forEach(function (p) {
      fig.data[p[1]].y = st[p[0]].share;
      fig.data[p[1]].opacity = p[0] === act ? 1.0 : 0.35;
    });
    var what = act === "tanh" ? "beyond ±" + d.threshold + " (saturated)" : "off (x ≤ 0)";
    fig.layout.title.text = "σ = " + AX.fmt(sigma) + ": " + (100 * st[act].stuck).toFixed(1) + "% of " + act +
      " units " + what + "; mean gradient passed " + st[act].mean_slope.toFixed(3);
    AX.draw(root, fig);
  }
  update();
};
