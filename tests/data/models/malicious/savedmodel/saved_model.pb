

pPyFunc