"""BioC XML and BioC JSON (https://bioc.sourceforge.net).

Two registered formats share one mapping (:mod:`biorel.io.bioc.mapping`, whose
docstring states every rule, including how BC5CDR composite mentions and
BioRED/BC5CDR relations map):

* :mod:`biorel.io.bioc.xml`  -- ``biorel.BioCXML.v1`` (alias ``bioc-xml``;
  ``.bioc.xml``, or ``.xml`` whose root element is ``<collection>``);
* :mod:`biorel.io.bioc.json` -- ``biorel.BioCJSON.v1`` (alias ``bioc-json``;
  ``.bioc.json``, or ``.json`` holding a BioC collection).

Both stream in both directions and expose the json-like API
``iterparse/load/loads/dump/dumps``::

    from biorel.io.bioc import xml as biocxml
    for doc in biocxml.iterparse("CDR_TestSet.BioC.xml"):
        ...
"""

from . import json, xml  # noqa: F401  (registers both formats)

__all__ = ["json", "xml"]
