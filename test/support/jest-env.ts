// Every spec runs in UTC so that dates written in a spec mean the same on every machine (docs/testing.md, "Dates and clocks").
process.env['TZ'] = 'UTC';
