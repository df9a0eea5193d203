// Shows upload progress for large files; without JavaScript the form posts as usual.
document.getElementById("import-form").addEventListener("submit", (event) => {
  const form = event.target;
  const bar = document.getElementById("upload-progress");
  event.preventDefault();
  const request = new XMLHttpRequest();
  request.open("POST", window.location.href);
  bar.hidden = false;
  request.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
  });
  request.addEventListener("load", () => {
    document.open();
    document.write(request.responseText);
    document.close();
  });
  request.send(new FormData(form));
});
