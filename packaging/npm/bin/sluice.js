#!/usr/bin/env node
// The `sluice` command of the installed package: the CLI of the bundled @sluice/daemon.
import '../node_modules/@sluice/daemon/dist/cli/main.js';
