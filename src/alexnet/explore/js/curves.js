// Every record's curves: a picker switches among the figures the package drew at build time.
AX.explorers.curves = function (root, d) {
  var s = AX.controls(root, [
    {name: "record", label: "record", type: "select", value: "0",
     options: d.records.map(function (r, i) { return [String(i), r.name]; })}
  ], update);
  function update() {
    var r = d.records[Number(s.record)];
    root.querySelector(".ax-note").textContent = r.note;
    AX.draw(root, r.figure);
  }
  update();
};
