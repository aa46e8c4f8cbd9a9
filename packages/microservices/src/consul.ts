export { type ConsulRegistryOptions, consulRegistry } from './backends/consul.js';
