import { noaTsupConfig } from '../../configs/tsup.ts';

export default noaTsupConfig({
  index: 'src/index.ts',
  cloudfront: 'src/providers/cloudfront.ts',
  cloudflare: 'src/providers/cloudflare.ts',
  fastly: 'src/providers/fastly.ts',
  akamai: 'src/providers/akamai.ts',
  assets: 'src/assets.ts',
});
