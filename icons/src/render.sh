#!/bin/sh
# Renders the committed PNG icons from the SVG sources in this folder (needs rsvg-convert,
# Debian package librsvg2-bin). Tauri wants RGBA PNGs; rsvg-convert writes RGBA.
set -eu
cd "$(dirname "$0")"
rsvg-convert -w 32 -h 32 app.svg -o ../32x32.png
rsvg-convert -w 128 -h 128 app.svg -o ../128x128.png
rsvg-convert -w 512 -h 512 app.svg -o ../icon.png
for s in online connecting attention offline; do
  rsvg-convert -w 64 -h 64 "tray-$s.svg" -o "../tray-$s.png"
done
