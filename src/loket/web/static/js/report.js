// The report form's "Use my location": the device is asked only when the person presses the button
// (that press is their consent); its answer fills the hidden latitude and longitude. Without
// JavaScript, or without geolocation, the address fields alone are shown.
(() => {
  const block = document.getElementById("device-location");
  if (!block || !("geolocation" in navigator)) return;
  const button = document.getElementById("use-location");
  const status = document.getElementById("location-status");
  const latitude = document.getElementById("latitude");
  const longitude = document.getElementById("longitude");
  block.hidden = false;
  button.addEventListener("click", () => {
    status.textContent = button.dataset.asking;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        latitude.value = position.coords.latitude.toFixed(6);
        longitude.value = position.coords.longitude.toFixed(6);
        status.textContent = button.dataset.found;
      },
      () => {
        latitude.value = longitude.value = "";
        status.textContent = button.dataset.failed;
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
    );
  });
})();
