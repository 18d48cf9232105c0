// hostile: status=0 guard=80 stdout=^end$
for (var i = 0; i < 1000000; i++) new Promise(function () {}).then(function () {});
console.log('end');
