// Every spec runs in UTC so that dates written in a spec mean the same on every machine (STYLE.md "Tests").
process.env['TZ'] = 'UTC';
