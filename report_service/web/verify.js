(function () {
  "use strict";
  var input = document.getElementById("file");
  var result = document.getElementById("result");
  var expected = document.body.getAttribute("data-sha256");
  if (!input || !result || !expected) { return; }
  function show(kind, text) { result.className = kind; result.textContent = text; }
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) { return; }
    if (!(window.crypto && window.crypto.subtle)) {
      show("bad", "此浏览器无法在本页计算文件摘要，请通过HTTPS访问本页或更换浏览器。");
      return;
    }
    show("", "已选择“" + file.name + "”，正在计算文件摘要……");
    file.arrayBuffer().then(function (data) {
      return window.crypto.subtle.digest("SHA-256", data);
    }).then(function (digest) {
      var hex = Array.prototype.map.call(new Uint8Array(digest), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
      if (hex === expected) {
        show("ok", "一致：所选文件就是本报告（SHA-256相同）。");
      } else {
        show("bad", "不一致：所选文件不是本报告，或已被改动。所选文件的SHA-256为 " + hex);
      }
    }, function () {
      show("bad", "无法读取所选文件，请重新选择。");
    });
  });
}());
