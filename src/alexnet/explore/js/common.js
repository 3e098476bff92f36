// The explorers' shared part: start one once Plotly is there, build its inputs, draw.
window.AX = window.AX || {};
(function (AX) {
  if (AX.start) return;
  AX.explorers = AX.explorers || {};
  AX.start = function (kind, id, data) {
    var root = document.getElementById(id);
    if (!root || root.getAttribute("data-started")) return;
    if (typeof Plotly === "undefined") {
      if (document.readyState !== "complete") {
        window.addEventListener("load", function () { AX.start(kind, id, data); });
      } else {
        root.querySelector(".ax-note").textContent =
          "This explorer is drawn by the book's _static/plotly-cartesian.min.js, which did not load.";
      }
      return;
    }
    root.setAttribute("data-started", "1");
    AX.explorers[kind](root, data);
  };
  // spec: [{name, label, type: "range" | "select" | "button", min, max, step, value,
  //         options: [[value, label], ...], show: function (v) -> text}]
  AX.controls = function (root, spec, onChange) {
    var box = root.querySelector(".ax-controls"), state = {};
    spec.forEach(function (c) {
      var wrap = document.createElement("label"), input;
      wrap.className = "ax-control";
      wrap.style.cssText = "display:inline-block;margin:0 1.2em 0.4em 0;font-size:0.9em";
      if (c.type === "button") {
        input = document.createElement("button");
        input.type = "button";
        input.textContent = c.label;
        input.style.cssText = "padding:0.1em 0.6em;border:1px solid #999;border-radius:3px;background:#f6f6f6";
        input.addEventListener("click", function () { onChange(c.name, c.value); });
        wrap.appendChild(input);
      } else {
        var text = document.createElement("span"), out = document.createElement("output");
        text.textContent = c.label + " ";
        input = document.createElement(c.type === "select" ? "select" : "input");
        if (c.type === "select") {
          c.options.forEach(function (o) {
            var opt = document.createElement("option");
            opt.value = o[0]; opt.textContent = o[1]; input.appendChild(opt);
          });
        } else {
          input.type = "range"; input.min = c.min; input.max = c.max; input.step = c.step;
          input.style.verticalAlign = "middle";
        }
        input.value = c.value;
        var show = function () { out.textContent = c.show ? " " + c.show(state[c.name]) : ""; };
        state[c.name] = c.type === "select" ? input.value : Number(input.value);
        input.addEventListener("input", function () {
          state[c.name] = c.type === "select" ? input.value : Number(input.value);
          show(); onChange(c.name, state[c.name]);
        });
        wrap.appendChild(text); wrap.appendChild(input); wrap.appendChild(out); show();
      }
      input.setAttribute("data-name", c.name);
      box.appendChild(wrap);
    });
    // set: move a control from code (a preset button), as if the reader had.
    state.set = function (name, v) {
      var input = box.querySelector('[data-name="' + name + '"]');
      input.value = v;
      input.dispatchEvent(new Event("input"));
    };
    return state;
  };
  AX.uint16 = function (p) {
    var bin = atob(p.b64), n = bin.length / 2, out = new Float32Array(n);
    for (var i = 0; i < n; i++) {
      out[i] = (bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8)) * p.max / 65535;
    }
    return out;
  };
  AX.draw = function (root, fig) {
    var div = root.querySelector(".ax-plot");
    fig.layout.datarevision = (fig.layout.datarevision || 0) + 1;     // arrays changed in place: redraw
    return Plotly.react(div, fig.data, fig.layout, {displaylogo: false, responsive: true});
  };
  AX.fmt = function (x) { return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? (+x.toPrecision(3)).toString() : x.toExponential(2); };
})(window.AX);
