import { PNG } from 'pngjs';

/** Pixels darker than mid-grey: rendered text on a white page. */
export function darkPixels(png: Buffer): { dark: number; total: number } {
  const img = PNG.sync.read(png);
  let dark = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const lum = 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
    if (lum < 128 && img.data[i + 3]! > 0) dark++;
  }
  return { dark, total: img.width * img.height };
}
