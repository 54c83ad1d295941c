module acmecheck.test/selfcheck

go 1.19
