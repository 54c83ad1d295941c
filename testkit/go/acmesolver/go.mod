module acmecheck.test/acmesolver

go 1.19
