"""The translator's workbench in the browser: lookup as you type, concordance, article analysis
and pre-translated export. Composes the TM and glossary services in its views."""
