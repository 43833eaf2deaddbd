#!/bin/sh
# Renders the committed PNG icons from the SVG sources in this folder (needs rsvg-convert,
# Debian package librsvg2-bin). Tauri wants RGBA PNGs; rsvg-convert writes RGBA.
set -eu
cd "$(dirname "$0")"
for n in 16 24 32 48 64 256; do
  rsvg-convert -w $n -h $n app.svg -o "../${n}x${n}.png"
done
rsvg-convert -w 128 -h 128 app.svg -o ../128x128.png
rsvg-convert -w 512 -h 512 app.svg -o ../icon.png
for s in online connecting attention offline; do
  rsvg-convert -w 64 -h 64 "tray-$s.svg" -o "../tray-$s.png"
done
# icon.icns (macOS) and icon.ico (Windows) come from the Tauri CLI of packaging/:
#   packaging/node_modules/.bin/tauri icon icons/src/app.svg -o /some/scratch/dir
# then copy its icon.icns and icon.ico here.
