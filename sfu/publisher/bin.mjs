#!/usr/bin/env node
// The installed `publisher` command: registers tsx's loader so the TypeScript sources run as they are.
import { register } from "tsx/esm/api";

register();
await import("./cli.ts");
