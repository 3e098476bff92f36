// §4.1 in the page: the package's draws (crop corner, reflection, RGB shift at σ = 1) applied
// to the photo in a canvas: crop, mirror, add σ × shift to every pixel (clipped for display).
AX.explorers.augmentation = function (root, d) {
  var fig = d.figure, D = d.draws, C = d.crop, cache = {};
  var s = AX.controls(root, [
    {name: "photo", label: "photo", type: "select", value: d.start.photo,
     options: Object.keys(d.photos).map(function (n) { return [n, n]; })},
    {name: "sigma", label: "σ of the lighting noise", type: "range", min: 0, max: 1, step: 0.05,
     value: d.start.sigma, show: function (v) { return "= " + v.toFixed(2) + (Math.abs(v - 0.1) < 1e-9 ? " (the paper's)" : ""); }},
    {name: "another", label: "another draw", type: "button", value: 1}
  ], update);
  s.draw = d.start.draw;
  function pixels(name, then) {
    if (cache[name]) return then(cache[name]);
    var img = new Image();
    img.onload = function () {
      var c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
      var g = c.getContext("2d"); g.drawImage(img, 0, 0);
      cache[name] = g.getImageData(0, 0, img.width, img.height); then(cache[name]);
    };
    img.src = d.photos[name];
  }
  function update(name) {
    if (name === "another") s.draw = (s.draw + 1) % D.top.length;
    var i = s.draw, sigma = s.sigma, t = D.top[i], l = D.left[i], flip = D.flip[i];
    pixels(s.photo, function (src) {
      var c = document.createElement("canvas"); c.width = C; c.height = C;
      var g = c.getContext("2d"), out = g.createImageData(C, C), W = src.width;
      var add = D.shift[i].map(function (v) { return sigma * v * 255; });
      for (var y = 0; y < C; y++) for (var x = 0; x < C; x++) {
        var sx = l + (flip ? C - 1 - x : x), p = 4 * ((t + y) * W + sx), q = 4 * (y * C + x);
        for (var ch = 0; ch < 3; ch++) out.data[q + ch] = Math.min(255, Math.max(0, src.data[p + ch] + add[ch]));
        out.data[q + 3] = 255;
      }
      g.putImageData(out, 0, 0);
      fig.data[0].source = d.photos[s.photo];
      fig.data[1].source = c.toDataURL("image/jpeg", 0.9);
      var box = fig.layout.shapes[0];
      box.x0 = l - 0.5; box.x1 = l + C - 0.5; box.y0 = t - 0.5; box.y1 = t + C - 0.5;
      box.line.dash = flip ? "dash" : "solid";
      fig.layout.annotations[0].text = "256×256 photo, " + (flip ? "crop reflected (dashed)" : "crop (solid)");
      fig.layout.annotations[1].text = "224×224 input, σ = " + sigma.toFixed(2);
      root.querySelector(".ax-note").textContent = "Draw " + (i + 1) + " of " + D.top.length + ": crop at (" + t +
        ", " + l + ")" + (flip ? ", reflected" : "") + "; lighting shift " +
        add.map(function (v) { return (v >= 0 ? "+" : "") + v.toFixed(1); }).join(", ") +
        " grey levels (R, G, B). " + d.caption;
      AX.draw(root, fig);
    });
  }
  update();
};
