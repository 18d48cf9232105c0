// hostile: status=1 stderr=MODULE_NOT_FOUND
require('./no/such/module');
