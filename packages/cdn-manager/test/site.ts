/**
 * A small generated site (HTML, JS, CSS, SVG, PNG, JPEG) for the asset pipeline's tests and
 * benchmark. Its files reference each other as real sites do: the page links the styles, scripts and
 * images (src, href, srcset), the styles use url() and @import, each script imports the previous one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function generateSite(
  dir: string,
  { pages = 3, images = 2, imageSize = 64 } = {},
): Promise<void> {
  const sharp = (await import('sharp')).default;
  mkdirSync(join(dir, 'js'), { recursive: true });
  mkdirSync(join(dir, 'css'), { recursive: true });
  mkdirSync(join(dir, 'img'), { recursive: true });
  for (let i = 0; i < pages; i++) {
    const fns = Array.from(
      { length: 40 },
      (_, j) => `
/** Adds up the prices of page ${i} item ${j}; kept readable on purpose. */
export function computeTotal_${j}(items) {
  let totalPrice = 0;
  for (const currentItem of items) {
    if (currentItem.quantity > 0) {
      totalPrice = totalPrice + currentItem.price * currentItem.quantity;
    }
  }
  return totalPrice;
}`,
    ).join('\n');
    const imports =
      i > 0 ? `import { computeTotal_0 as previous } from './page-${i - 1}.js';\nexport { previous };\n` : '';
    writeFileSync(join(dir, 'js', `page-${i}.js`), imports + fns);
    const rules = Array.from(
      { length: 60 },
      (_, j) =>
        `.card-${i}-${j} {\n  color: #ff0000;\n  margin: 0px 0px 0px 0px;\n  background-color: #ffffff;\n  padding: 10px 10px;\n}\n`,
    ).join('\n');
    const head = i > 0 ? `@import "page-${i - 1}.css";\n` : '';
    writeFileSync(
      join(dir, 'css', `page-${i}.css`),
      `${head}/* page ${i} styles */\n.logo-${i} { background: url("../img/logo.svg") no-repeat; }\n${rules}`,
    );
  }
  writeFileSync(
    join(dir, 'img', 'logo.svg'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<!-- Generator: hand -->\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">\n  <g>\n    <rect x="10.000" y="10.000" width="80.000" height="80.000" fill="#ff0000"/>\n    <circle cx="50.000" cy="50.000" r="20.000" fill="#ffffff"></circle>\n  </g>\n</svg>\n`,
  );
  for (let i = 0; i < images; i++) {
    // A gradient so encoders have something real to compress.
    const raw = Buffer.alloc(imageSize * imageSize * 3);
    for (let y = 0; y < imageSize; y++)
      for (let x = 0; x < imageSize; x++) {
        const o = (y * imageSize + x) * 3;
        raw[o] = (x * 255) / imageSize;
        raw[o + 1] = (y * 255) / imageSize;
        raw[o + 2] = ((x + y + i * 20) * 127) / imageSize;
      }
    const image = sharp(raw, { raw: { width: imageSize, height: imageSize, channels: 3 } });
    writeFileSync(
      join(dir, 'img', `photo-${i}.png`),
      await image.clone().png({ compressionLevel: 0 }).toBuffer(),
    );
    writeFileSync(join(dir, 'img', `photo-${i}.jpg`), await image.clone().jpeg({ quality: 95 }).toBuffer());
  }
  writeFileSync(join(dir, 'robots.txt'), 'User-agent: *\nAllow: /\n');
  const last = pages - 1;
  const pictures = Array.from(
    { length: images },
    (_, i) =>
      `    <picture><source srcset="/img/photo-${i}.png 1x, img/photo-${i}.jpg 2x"><img src="img/photo-${i}.png" alt=""></picture>`,
  ).join('\n');
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html>\n<html>\n  <head>\n    <link rel="stylesheet" href="css/page-${last}.css">\n    <link rel="icon" href="/img/logo.svg">\n    <script type="module" src="./js/page-${last}.js"></script>\n  </head>\n  <body>\n    <a href="https://example.com/">elsewhere</a>\n${pictures}\n  </body>\n</html>\n`,
  );
}
