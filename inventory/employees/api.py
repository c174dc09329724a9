import django_filters
from django.db.models import Prefetch
from rest_framework import viewsets

from inventory.employees.models import Employee, HeldQualification, Qualification
from inventory.employees.serializers import EmployeeSerializer, QualificationSerializer
from inventory.items.models import Tag


class EmployeeFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", label="Code, name, reading (kana) or badge UID"
    )

    class Meta:
        model = Employee
        fields = ["status", "department"]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


class EmployeeViewSet(viewsets.ModelViewSet):
    """Employees, looked up by their code: `/api/v1/employees/E0001/`."""

    queryset = Employee.objects.select_related("shift").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.active(), to_attr="active_tags"),
        Prefetch(
            "qualifications", queryset=HeldQualification.objects.select_related("qualification")
        ),
    )
    serializer_class = EmployeeSerializer
    filterset_class = EmployeeFilter
    lookup_field = "code"
    # Codes come from the factory's own lists and may hold a slash ("M8/12"): the whole rest
    # of the path is the code (there are no routes below one).
    lookup_value_regex = ".+"


class QualificationViewSet(viewsets.ModelViewSet):
    """Trainings and licences that categories of tools may require (see /api/v1/categories/)
    and employees hold (`qualifications` of an employee)."""

    queryset = Qualification.objects.all()
    serializer_class = QualificationSerializer
