#!/usr/bin/env node
// The `sluice-relay` command of the installed package: the CLI of the bundled @sluice/relay.
import '../node_modules/@sluice/relay/dist/cli/main.js';
