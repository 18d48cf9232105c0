var s = btoa('hello \u00ff');
console.log(s, atob(s), atob(' aGk= '));
try { atob('*'); } catch (e) { console.log(e.name, e.code); }
