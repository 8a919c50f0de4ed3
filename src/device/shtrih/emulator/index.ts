export * from './emulator';
export * from './serial';
export * from './tcp';
