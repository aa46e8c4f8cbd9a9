import { noaTsupConfig } from '../../configs/tsup.ts';

export default noaTsupConfig({
  index: 'src/index.ts',
  msgpack: 'src/msgpack.ts',
  protobuf: 'src/protobuf.ts',
  prometheus: 'src/prometheus.ts',
});
